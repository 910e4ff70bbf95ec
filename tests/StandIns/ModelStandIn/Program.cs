using SafeNotify.Crm.ModelStandIn;

var app = ModelStandInApp.Build(args);
app.Run();
